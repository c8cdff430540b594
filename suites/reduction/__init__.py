"""npusim suite/reduction."""
