"""npusim suite/fused."""
