"""`paved report`: the handoff packet, one page both sides sign off on.

`gather` collects the verdict and the model card's facts into a `Packet` (packet.py); `render`
turns it into a self-contained HTML page (with hand-written SVG plots, plots.py) or Markdown.
"""
