from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

import yunity_sockets


@login_required
def home(request):
    return render(request, "demo/home.html", {"sockets_url": settings.SOCKETS_URL})


@login_required
@require_POST
def send(request):
    """Sends the text to the users named (comma-separated usernames), from the signed-in user."""
    names = [n.strip() for n in request.POST.get("to", "").split(",") if n.strip()]
    users = list(get_user_model().objects.filter(username__in=names))
    instances = yunity_sockets.notify(users, {"text": request.POST.get("text", ""), "from": request.user.username})
    return JsonResponse({"to": sorted(u.username for u in users), "instances": instances})


def socket_io_js(request):
    return FileResponse(open(settings.SOCKET_IO_JS, "rb"), content_type="text/javascript")
