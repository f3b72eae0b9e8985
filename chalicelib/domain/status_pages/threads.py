"""Posts grouped into stories: Statuspage's incidents, each with its updates."""

from __future__ import annotations

from collections.abc import Iterable

from chalicelib.domain.status_pages.model import Post, PostStatus


def newest_first(posts: Iterable[Post]) -> list[Post]:
    # The id breaks ties so that two posts of the same second keep one order across renders.
    return sorted(posts, key=lambda post: (post.created_at, post.id), reverse=True)


def threads(posts: Iterable[Post]) -> list[list[Post]]:
    """Posts of one story together, each story newest post first; the stories newest first."""
    by_thread: dict[str, list[Post]] = {}
    for post in newest_first(posts):
        by_thread.setdefault(post.thread_id or f"post:{post.id}", []).append(post)
    return list(by_thread.values())


def unresolved_threads(posts: Iterable[Post]) -> list[list[Post]]:
    """The stories whose newest post is not `resolved`."""
    return [thread for thread in threads(posts) if thread[0].status is not PostStatus.RESOLVED]
