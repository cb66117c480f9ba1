"""`prodlens report`: the ProdLens report for one repository, tenant and window, as CSV, JSON or HTML.

Every figure is read from the published database (PRODLENS_HOME/prodlens.duckdb), never recomputed here:

* the report's metrics from ``prodlens.report.metrics.report_metrics`` (the compiled definition of
  ``marts.report_metrics``, run for the requested window);
* correlations from ``marts.correlation_cache`` and their daily input from ``marts.correlation_series``;
* effect sizes from ``marts.effect_sizes``;
* chart data from ``marts.report_daily_figures`` (daily cost by model), ``marts.provider_performance`` (daily latency
  percentiles) and ``marts.customer_roi_snapshots`` (savings).

Modules: :mod:`.request` (inputs and their validation), :mod:`.data` (reading the marts), :mod:`.content`
(the nested JSON and the flat CSV rows), :mod:`.reading` (number formats and plain-language readings),
:mod:`.svg` and :mod:`.charts` (inline SVG charts), :mod:`.page` (the HTML page), :mod:`.writers`.
"""

from prodlens.report.data import ReportData, gather
from prodlens.report.request import FORMATS, ReportError, ReportRequest
from prodlens.report.writers import demo_report, render, write_report

__all__ = [
    "FORMATS",
    "ReportData",
    "ReportError",
    "ReportRequest",
    "demo_report",
    "gather",
    "render",
    "write_report",
]
