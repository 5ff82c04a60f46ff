"""What analysts read besides SQL: the weekly digest."""
