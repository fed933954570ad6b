"""The names users choose among on the command line and in settings: engines,
severities, output formats. Kept apart from the code behind them so that the
command line can offer them without importing that code."""

ENGINES = ("fast", "pyshacl")
FAIL_ON = ("violation", "warning", "never")
CHECK_FORMATS = ("text", "json", "junit", "sarif", "markdown", "github")
OUTPUT_FORMATS = ("table", "csv", "tsv", "json")  # of `justify query`
REPORT_FORMATS = ("html", "markdown")
EXPORT_FORMATS = ("turtle", "ntriples", "nquads", "trig", "jsonld")
