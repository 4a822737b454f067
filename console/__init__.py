"""The Streamlit console: marketing analysts pick an audience, compose, send and follow campaigns."""
