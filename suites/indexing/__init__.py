"""npusim suite/indexing."""
