"""npusim suite/elementwise."""
