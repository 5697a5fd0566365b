"""The web UI: server-rendered pages (Jinja2 + HTMX, Plotly charts served from the plotly
wheel), mounted into the API app. Works offline: no CDN."""
