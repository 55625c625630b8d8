"""Answering a question: retrieve, rank stories, choose sentences, abstain, compose."""
