"""The analyst's page: households paid, amounts and coverage by region, program and month, as a
table, charts and an XLSX of the same numbers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from safetynet.domain.messages import translate
from safetynet.entrypoints.api.policy import Action
from safetynet.entrypoints.web import charts, views
from safetynet.entrypoints.web.rendering import page_locale, render
from safetynet.entrypoints.web.session import StaffUser, service_of, staff

router = APIRouter(include_in_schema=False)

HEADERS = (
    "County code",
    "County",
    "Program",
    "Month",
    "Households paid",
    "Amount (yuan)",
    "Coverage (per 1,000 households)",
)


@router.get("/statistics")
def statistics(
    request: Request,
    user: Annotated[StaffUser, Depends(staff(Action.STATISTICS))],
    program: str = "",
) -> Response:
    stats = views.statistics(service_of(request).db, user.region, program[:60] or None)
    locale = page_locale(request, user)
    amounts = [fen // 100 for fen in stats.amount_by_month_fen]
    context = {
        "stats": stats,
        "program_filter": program[:60],
        "headers": HEADERS,
        "amount_chart": charts.bar_chart(
            translate("Amount paid by month (yuan)", locale), stats.months, amounts
        ),
        "households_chart": charts.bar_chart(
            translate("Households paid by month", locale), stats.months, stats.households_by_month
        ),
    }
    return render(request, "statistics.html", user, context)


@router.get("/statistics.xlsx")
def statistics_xlsx(
    request: Request,
    user: Annotated[StaffUser, Depends(staff(Action.STATISTICS))],
    program: str = "",
) -> Response:
    stats = views.statistics(service_of(request).db, user.region, program[:60] or None)
    locale = page_locale(request, user)
    headers = [translate(h, locale) for h in HEADERS]
    title = translate(
        "Payments in {region} by county, program and month", locale, region=user.region
    )
    body = views.statistics_xlsx(stats, headers, title)
    return Response(
        body,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="statistics-{user.region}.xlsx"'},
    )
