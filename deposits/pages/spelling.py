"""How names are spelled and matched: the name matcher's tables (kernel/names.py), shown
to users so a partner sees why "Jijikrut" finds "Dzhizhikrut"."""

from django.shortcuts import render

from kernel import names

# Spellings met in the sources, each with the key the matcher reads it as.
EXAMPLES = [
    "Кони-Мансур",
    "Koni Mansour",
    "Konimansoor",
    "Konimansuri Kalon",
    "Джилау",
    "Dzhilau",
    "Jilau",
    "Джижикрут",
    "Dzhizhikrut",
    "Jijikrut",
    "Ҳисор",
    "Hisor",
    "Dara-i-Pioz",
]


def spelling(request):
    return render(
        request,
        "deposits/spelling.html",
        {
            "letters": names.spelling_table(),
            "folds": names.folding_table(),
            "qualifiers": sorted(names.QUALIFIERS),
            "examples": [(example, names.key(example)) for example in EXAMPLES],
        },
    )
