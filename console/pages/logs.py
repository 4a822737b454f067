"""logs page."""

import streamlit as st

st.title("logs")
