"""Reports: the offline HTML report on every critical raw material (:mod:`critmat.reports.html`)."""
