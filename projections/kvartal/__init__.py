"""The nämnd's quarterly report as a picture (issue #17 item 5): one self-contained HTML page,
and a PDF of it, for a kommun and quarter, built only from the registered reports
(``projections.reports.REPORTS``) so every figure on the page is one a report's table prints.

``model`` holds the page's parts, ``charts`` draws them (matplotlib, SVG), ``sections`` lists the
section builders (add one there to add a section), ``page`` gathers and writes the HTML, ``pdf``
lays the same HTML out as a PDF.
"""
