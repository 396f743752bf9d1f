"""Streamlit-side helpers shared by the lesson pages (the backend is ``cnnlab``)."""
