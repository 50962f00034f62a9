"""The JSON API (FastAPI): ``create_app`` builds the application with its pages."""
