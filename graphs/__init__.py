"""Graphs deployed to the LangGraph server (see ``langgraph.json``)."""
