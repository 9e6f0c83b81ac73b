from django.urls import path

from subscriptions import views

app_name = "subscriptions"

urlpatterns = [
    path("subscribe/", views.subscribe, name="subscribe"),
    path("subscribe/check-your-inbox/", views.check_inbox, name="check_inbox"),
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("preferences/<str:token>/", views.manage, name="manage"),
    path("preferences/<str:token>/link/", views.link_account, name="link_account"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("unsubscribe/<str:token>/undo/", views.resubscribe, name="resubscribe"),
    # Beside allauth's own /accounts/ pages, for signed-in subscribers.
    path("accounts/preferences/", views.account_preferences, name="account_preferences"),
    path("accounts/subscribe/", views.account_subscribe, name="account_subscribe"),
    path("accounts/data/", views.account_data, name="account_data"),
    path("accounts/delete/", views.account_delete, name="account_delete"),
]
