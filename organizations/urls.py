from django.urls import path

from .views import auth, language, pages

urlpatterns = [
    path("", pages.dashboard, name="dashboard"),
    path("organization/switch/", pages.switch_organization, name="switch_organization"),
    path("network/organizations/", pages.network_organizations, name="network_organizations"),
    path("partnerships/", pages.partnership_list, name="partnership_list"),
    path("organization/members/", pages.member_list, name="member_list"),
    path("health/", pages.health, name="health"),
    path("account/login/", auth.SignInView.as_view(), name="login"),
    path("account/security/", auth.account_security, name="account_security"),
    path("account/language/", language.set_language, name="set_language"),
    path("account/two-factor/verify/", auth.two_factor_verify, name="two_factor_verify"),
    path("account/two-factor/setup/", auth.two_factor_setup, name="two_factor_setup"),
    path("account/two-factor/disable/", auth.two_factor_disable, name="two_factor_disable"),
]
