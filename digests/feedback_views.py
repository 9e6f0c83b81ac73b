"""More like this / Less like this / Mute this topic, from the digest, without login.

Link scanners open every link in a mail, so a GET only shows the paper and one button;
the POST of that button records the signal. Undo is a POST too.
"""

from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from digests import tokens
from digests.models import ReaderSignal, TopicMute
from digests.services import reader
from papers.models import Paper, Topic
from subscriptions.tokens import BadToken

LABELS = {"more": "More like this", "less": "Less like this", "mute": "Mute this topic"}


@never_cache
@require_http_methods(["GET", "POST"])
def feedback(request, token: str, paper_id: int, action: str):
    if action not in tokens.ACTIONS:
        raise Http404("No such action.")
    try:
        subscriber, delivery = tokens.feedback_read(token, paper_id=paper_id)
    except BadToken:
        return render(request, "digests/feedback_invalid.html", status=400)
    paper = get_object_or_404(Paper, pk=paper_id)
    topics = list(paper.topics.order_by("name"))
    done = ""
    if request.method == "POST":
        done = _act(request, subscriber=subscriber, delivery=delivery, paper=paper, action=action)
        if done == "bad":
            return render(request, "digests/feedback_invalid.html", status=400)
    signal = ReaderSignal.objects.filter(subscriber=subscriber, paper=paper).first()
    muted = set(
        TopicMute.objects.filter(subscriber=subscriber, topic__in=topics).values_list(
            "topic_id", flat=True
        )
    )
    context = {
        "paper": paper,
        "action": action,
        "label": LABELS[action],
        "signal": signal,
        "topics": topics,
        "muted": muted,
        "done": done,
    }
    return render(request, "digests/feedback.html", context)


def _act(request, *, subscriber, delivery, paper, action) -> str:
    """Carry out the POST; returns what happened, for the page to say."""
    undo = request.POST.get("undo") == "1"
    if action in ("more", "less"):
        if undo:
            reader.reader_signal_undo(subscriber=subscriber, paper=paper)
            return "undone"
        reader.reader_signal_record(
            subscriber=subscriber, paper=paper, kind=action, delivery=delivery
        )
        return "recorded"
    try:
        topic_id = int(request.POST.get("topic", ""))
    except ValueError:
        return "bad"
    topic = Topic.objects.filter(pk=topic_id, papers=paper).first()
    if topic is None:  # only a topic of this paper can be muted from its link
        return "bad"
    if undo:
        reader.topic_unmute(subscriber=subscriber, topic=topic)
        return "unmuted"
    reader.topic_mute(subscriber=subscriber, topic=topic)
    return "muted"
