"""The Streamlit pages of the dashboard (one module per page) and their shared helpers.

Streamlit code lives only here and in dashboard.py; everything else is called from experiments/.
"""
