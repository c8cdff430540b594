"""npusim suite: gaps (ops the backend does not lower yet)."""
