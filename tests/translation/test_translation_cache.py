"""The Redis cache (real Redis, db 5): approved content only, keyed by model version."""

import hashlib

from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from translation.cache import CachedTranslator, TranslationCache

TEXT = "You are not alone."


def test_content_is_translated_once_then_served_from_redis(stack_for, full_store, redis5) -> None:
    cache = TranslationCache(redis5)
    stack = stack_for(full_store, cache=cache)
    first = stack.translator.translate(TEXT, "en", "sw", cacheable=True)
    second = stack.translator.translate(TEXT, "en", "sw", cacheable=True)
    assert len(stack.loader.calls("opus-en-sw")) == 1
    assert first == second and first.text == "Hauko peke yako."
    assert (cache.hits, cache.misses) == (1, 1)


def test_peoples_messages_are_never_written_to_the_cache(stack_for, full_store, redis5) -> None:
    stack = stack_for(full_store, cache=TranslationCache(redis5))
    stack.translator.translate(TEXT, "en", "sw")  # default: not cacheable
    stack.translator.translate_batch([TEXT, "Take a deep breath."], "en", "sw", cacheable=False)
    assert redis5.dbsize() == 0
    assert len(stack.loader.calls("opus-en-sw")) == 2


def test_the_key_has_version_pair_and_hash_but_never_the_text(stack_for, full_store, redis5) -> None:
    stack = stack_for(full_store, cache=TranslationCache(redis5))
    stack.translator.translate(TEXT, "en", "sw", cacheable=True)
    (key,) = [k.decode() for k in redis5.keys("*")]
    version = stack.translator.version("en", "sw")
    assert key == f"tumaini:mt:{version}:en:sw:{hashlib.sha256(TEXT.encode()).hexdigest()}"
    assert "opus-en-sw@" in version
    assert TEXT not in key
    assert 0 < redis5.ttl(key) <= 30 * 24 * 3600


def test_only_the_misses_of_a_batch_reach_the_model(stack_for, full_store, redis5) -> None:
    stack = stack_for(full_store, cache=TranslationCache(redis5))
    stack.translator.translate(TEXT, "en", "sw", cacheable=True)
    results = stack.translator.translate_batch([TEXT, "Take a deep breath."], "en", "sw", cacheable=True)
    calls = stack.loader.calls("opus-en-sw")
    assert len(calls) == 2 and len(calls[1][0]) == 1
    assert [r.text for r in results] == ["Hauko peke yako.", "Vuta pumzi ndefu."]


def test_rejected_translations_are_not_cached(stack_for, full_store, redis5) -> None:
    stack = stack_for(full_store, cache=TranslationCache(redis5))
    result = stack.translator.translate("nimechoka sana", "sw", "ha", cacheable=True)
    assert not result.ok
    assert redis5.dbsize() == 0


def test_a_new_model_version_or_a_higher_threshold_misses(stack_for, full_store, redis5) -> None:
    cache = TranslationCache(redis5)
    stack = stack_for(full_store, cache=cache)
    stack.translator.translate(TEXT, "en", "sw", cacheable=True)
    inner = stack.translator.inner
    # Same entries, seen by a cache that demands more confidence than they have.
    strict = CachedTranslator(inner, cache, threshold=0.999999)
    strict.translate(TEXT, "en", "sw", cacheable=True)
    assert len(stack.loader.calls("opus-en-sw")) == 2
    other = TranslationCache(redis5)
    assert other.get_many([other.key("opus-en-sw@another", "en", "sw", TEXT)]) == [None]


def test_redis_down_slows_translation_but_does_not_stop_it(stack_for, full_store, caplog) -> None:
    dead = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
    stack = stack_for(full_store, cache=TranslationCache(dead))
    result = stack.translator.translate(TEXT, "en", "sw", cacheable=True)
    assert result.text == "Hauko peke yako." and result.ok
    assert "translation cache unavailable" in caplog.text
