"""Report builders: JUnit shard merge, coverage matrix, plots, baseline diff.

Entry points (wired into the npusim CLI): reports.cli.report_main(argv) and
reports.cli.diff_main(argv). The JUnit property names the harness writes are
in reports.schema (Prop, Status, format_sizes).
"""
