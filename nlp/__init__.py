"""govreport-nlp: read, structure, classify and extract from Chinese rule-of-law government
annual reports (法治政府建设年度报告)."""

__version__ = "0.1.0"
