"""Answering a question: one module per stage, run in order by `pipeline.Answerer`.

`question` reads a question once (`Question`); `retrieve` finds passages (dense + lexical,
fused); `rerank`, when a cross-encoder is configured, reorders them; `stories` ranks the
candidate stories and their copies; `abstain` declines when the evidence is weak;
`sentences` (with the fact rules of `facts`) chooses what to quote; `compose` writes the
cited answer (`answer`: `Answer`, `Citation`). `evidence` holds the records the stages hand
on and `tuning` every number they use (`AnswerTuning`).
"""
