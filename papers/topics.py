"""Topics a new paper gets from its arXiv categories when its record names none.

Editors own topics: these are only a starting point given when a paper is first created
(an editor who removes one is not overruled by the next import). Categories without an
entry here give no topic.
"""

ARXIV_CATEGORY_TOPICS: dict[str, tuple[str, str]] = {
    "cs.CV": ("computer-vision", "Computer vision"),
    "eess.IV": ("computer-vision", "Computer vision"),
    "cs.CL": ("natural-language-processing", "Natural language processing"),
    "cs.LG": ("machine-learning", "Machine learning"),
    "stat.ML": ("machine-learning", "Machine learning"),
    "cs.AI": ("artificial-intelligence", "Artificial intelligence"),
    "cs.RO": ("robotics", "Robotics"),
    "cs.SD": ("speech-audio", "Speech and audio"),
    "eess.AS": ("speech-audio", "Speech and audio"),
    "cs.SE": ("software-engineering", "Software engineering"),
    "cs.CR": ("security", "Security and privacy"),
    "cs.IR": ("information-retrieval", "Information retrieval"),
    "cs.NE": ("neural-and-evolutionary-computing", "Neural and evolutionary computing"),
    "cs.MA": ("multi-agent-systems", "Multi-agent systems"),
    "cs.HC": ("human-computer-interaction", "Human-computer interaction"),
    "cs.DC": ("distributed-computing", "Distributed computing"),
    "q-bio.QM": ("computational-biology", "Computational biology"),
    "physics.med-ph": ("medical-imaging", "Medical imaging"),
}


def topics_for_categories(categories: list[str]) -> list[tuple[str, str]]:
    """(slug, name) of each topic the categories map to, in category order, no repeats."""
    topics = []
    for category in categories or []:
        topic = ARXIV_CATEGORY_TOPICS.get(str(category).strip())
        if topic and topic not in topics:
            topics.append(topic)
    return topics
