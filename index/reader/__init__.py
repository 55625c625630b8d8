"""The optional LLM reader: answers in the model's own words, every sentence verified.

`prompt` builds the request (numbered, delimited passages; article text is data), `client`
streams the model's text over an OpenAI-compatible API, `stream` cuts it into sentences with
their `[n]` markers, `facts` and `verify` decide whether the cited passages support a
sentence, and `stage.LlmReader` runs it all after story ranking and turns what survives into
an `Answer` with verbatim quotes — or keeps the extractive answer and records why.
"""
