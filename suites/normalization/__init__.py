"""npusim suite/normalization."""
