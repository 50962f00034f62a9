"""Server-rendered pages (Jinja2 templates, small static JS/CSS, Leaflet bundled)."""
