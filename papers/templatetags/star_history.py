from django import template

from papers.star_history import star_history_charts

register = template.Library()


@register.inclusion_tag("papers/_star_history.html")
def star_history(paper):
    """{% star_history paper %}: the paper's repositories' star charts (or nothing)."""
    return {"charts": star_history_charts(paper=paper) if paper and paper.pk else []}
