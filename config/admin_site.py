from django.contrib.admin import AdminSite


class SuperuserAdminSite(AdminSite):
    """Django admin for superusers only: staff flags alone never open it.

    Tenant staff work in Linkage's own pages, which apply tenancy and consent; the admin
    applies neither, so it belongs to the operators of the installation.
    """

    site_header = "Linkage administration"
    site_title = "Linkage admin"

    def has_permission(self, request) -> bool:
        user = request.user
        if not (user.is_active and user.is_superuser):
            return False
        # A superuser with a second factor must have passed it in this session.
        return not user_has_device(user) or user.is_verified()


def user_has_device(user) -> bool:
    from django_otp import user_has_device as _has

    return _has(user, confirmed=True)
