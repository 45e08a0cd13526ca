"""Words that say nothing about which event a text reports (function words, news boilerplate)."""

from __future__ import annotations

_WORDS = """
    a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself
    yourselves s t don doesn didn isn wasn won via per cent percent pct mr ms mrs dr inc corp
    co ltd plc llc said says say saying told according added reported report reports reporting
    monday tuesday wednesday thursday friday saturday sunday today yesterday tomorrow week weeks
    year years month months day days new one two three first last next since still however
    among around roughly nearly almost many much several including include us
    update source wire news editing copyright reserved rights read story
"""

STOPWORDS: frozenset[str] = frozenset(_WORDS.split())
