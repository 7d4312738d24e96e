@echo off
rem Starts Trade Relay. Settings already set in the environment win over these defaults;
rem flags win over both, e.g.  start_relay.bat --port 80
setlocal EnableExtensions
cd /d "%~dp0"

if not defined RELAY_PORT set "RELAY_PORT=8080"
if not defined RELAY_HOST set "RELAY_HOST=0.0.0.0"
if not defined RELAY_DB set "RELAY_DB=trade_relay.db"
if not defined RELAY_LOG_FILE set "RELAY_LOG_FILE=trade_relay.log"

if not exist dist\cli\main.js goto :not_built

echo Trade Relay: port %RELAY_PORT% (unless --port is given), database %RELAY_DB%, log %RELAY_LOG_FILE%
echo Reminder: TradingView only delivers webhooks to ports 80 and 443. Use --port 80 (or set RELAY_PORT=80),
echo or put a reverse proxy or HTTPS on 80/443 in front of port %RELAY_PORT%. Stop with Ctrl+C.
echo.

node bin\trade-relay.js start %*
set "RC=%ERRORLEVEL%"
rem Keep the window open after a failure, so a double-click shows why.
if not "%RC%"=="0" pause
exit /b %RC%

:not_built
echo Trade Relay is not built yet: run install.bat first.
pause
exit /b 1
