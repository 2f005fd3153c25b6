"""The book's tooling: run sizes (`profiles`), the papermill runner and publisher (`runner`), the
`vaelab` command (`cli`) and the Sphinx extension that serves MathJax (`sphinxext`).

It imports the core and the papers' modules; nothing below it imports it.
"""
