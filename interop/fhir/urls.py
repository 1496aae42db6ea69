"""`/fhir/r4/` routes, generated from the resource registry (the CapabilityStatement is
generated from the same table). FHIR URLs have no trailing slash."""

from django.urls import path, re_path

from . import views
from .registry import RESOURCES

urlpatterns = [
    path("metadata", views.MetadataView.as_view(), name="fhir_metadata"),
    path("", views.TransactionView.as_view(), name="fhir_base"),
]
for _resource in RESOURCES.values():
    _name = _resource.name
    urlpatterns.append(
        path(_name, views.TypeView.as_view(resource=_resource), name=f"fhir_{_name}")
    )
    if _resource.search is not None:
        urlpatterns.append(
            path(
                f"{_name}/_search",
                views.SearchView.as_view(resource=_resource),
                name=f"fhir_{_name}_search",
            )
        )
    urlpatterns += [
        path(
            f"{_name}/{_resource.id_route}",
            views.InstanceView.as_view(resource=_resource),
            name=f"fhir_{_name}_instance",
        ),
    ]
# Last: any other path under the base is an OperationOutcome 404, never a page.
urlpatterns.append(re_path(r"^.*$", views.unknown, name="fhir_unknown"))
