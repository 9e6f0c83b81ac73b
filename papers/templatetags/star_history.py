from django import template

from papers.star_history import star_history_charts

register = template.Library()


@register.inclusion_tag("papers/_star_history.html")
def star_history(paper, links=None):
    """{% star_history paper %}: the paper's repositories' star charts (or nothing).
    {% star_history paper code_links %} charts the first of those links: a page that lists
    them anyway reads them once (a queryset keeps its rows once evaluated)."""
    if not (paper and paper.pk):
        return {"charts": []}
    return {"charts": star_history_charts(paper=paper, links=links)}
