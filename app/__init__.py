"""stepgrad's web layer: FastAPI routes, settings, i18n and page rendering over ``solvers``."""
