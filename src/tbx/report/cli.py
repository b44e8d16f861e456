def add_report_parser(subparsers):
    pass
