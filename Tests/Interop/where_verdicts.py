"""Where-language oracle for WhereCorpusTests: daf_butler's own parser (lsst-daf-butler, in the
environment scripts/daf-butler-env.sh makes) says whether it accepts each expression.

Reads a JSON list of expressions from the file named by argv[1]; prints a JSON list of
[accepted, message] pairs, message being the parser's error for a refused one.
"""
import json
import sys
import warnings

from lsst.daf.butler.queries.expressions.parser import parse_expression

warnings.simplefilter("ignore")
verdicts = []
for expression in json.load(open(sys.argv[1], encoding="utf-8")):
    try:
        parse_expression(expression)
        verdicts.append([True, ""])
    except Exception as error:  # any refusal: a syntax error, a bad literal, a bad call
        verdicts.append([False, f"{type(error).__name__}: {error}"])
json.dump(verdicts, sys.stdout)
