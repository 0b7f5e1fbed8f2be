"""Web views (placeholder blueprint, filled in by the feature work)."""

from flask import Blueprint

bp = Blueprint("cases", __name__)
