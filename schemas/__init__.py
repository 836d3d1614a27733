"""marshmallow request and response schemas: shape only, never a database lookup."""
