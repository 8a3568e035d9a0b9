"""The weekly flow brief (`brief`): facts (point in time), prose written from them, and the rendered files.

    facts.py    the numbers: book, sectors, CFTC positioning, baskets; their definitions
    prose.py    sentences from the facts (a sentence whose data is missing is left out)
    models.py   what every strategy whose data is present holds now, and why
    render.py   Markdown, JSON, and HTML / PDF through research.report.render
    build.py    `brief(...)`: load, cut at the as-of moment, compute, write
"""

from research.weekly.build import Brief, brief

__all__ = ["Brief", "brief"]
