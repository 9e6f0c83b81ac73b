from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from config.health import run_checks, search_index


@require_safe
@never_cache
def healthz(request):
    checks = run_checks()
    down = sorted(name for name, result in checks.items() if result != "ok")
    body = {"status": "down" if down else "ok", "checks": checks, "search_index": search_index()}
    if down:
        body["down"] = down
    return JsonResponse(body, status=503 if down else 200)
