"""Streamlit entry point (placeholder until the dashboard lands): training runs from the command line."""
import streamlit as st

st.set_page_config(page_title="MNIST MLP lab", layout="wide")
st.title("MNIST MLP lab")
st.write("The dashboard is being built. Meanwhile, train from the command line:")
st.code("python -m experiments run --hidden 128 --optimizer adam --lr 0.001 --epochs 10", language="bash")
