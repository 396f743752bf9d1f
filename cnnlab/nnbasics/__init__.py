"""Neural-net basics: activations, losses, backpropagation, the 2-D playground, gradient flow.

Every function here works on small CPU tensors or NumPy arrays and never imports Streamlit.
"""
