"""suppression page."""

import streamlit as st

st.title("suppression")
