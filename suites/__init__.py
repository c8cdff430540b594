"""npusim suite."""
