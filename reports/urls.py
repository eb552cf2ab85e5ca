from django.urls import path

from reports.views import dashboard, exports, fixed

app_name = "reports"
urlpatterns = [
    path("", dashboard.HeadDashboardView.as_view(), name="dashboard"),
    path("mine/", dashboard.OwnDashboardView.as_view(), name="mine"),
    path("exports/", exports.ExportLogView.as_view(), name="export-log"),
    path("exports/<int:pk>/", exports.ExportDetailView.as_view(), name="export-detail"),
    path("exports/<int:pk>/progress/", exports.ExportProgressView.as_view(), name="export-progress"),
    path("exports/<int:pk>/file/", exports.ExportDownloadView.as_view(), name="export-download"),
    path("daily/", fixed.DailyReportView.as_view(), name="daily"),
    path("weekly/", fixed.WeeklyReportView.as_view(), name="weekly"),
    path("recipients/", fixed.RecipientsView.as_view(), name="recipients"),
]
