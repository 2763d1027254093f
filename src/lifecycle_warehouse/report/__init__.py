"""The lifecycle dashboard: data (read from the serving file) and render (HTML page, its
status, screenshots).
"""
