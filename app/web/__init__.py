"""What every page shares: templates, CSRF protection, the logged-in user, HTML error pages."""
