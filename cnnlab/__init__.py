"""cnnlab: the backend of the CNN teaching app. Pure Python and PyTorch, no Streamlit."""

__version__ = "0.1.0"
